"""What deploy shows and records for people and for the next command: the review as a terminal
table and as Markdown, progress lines, and the plan's files (plan.json, changeset.md, the note
of how the last plan ended), and the day-two commands' status table and JSON and log lines.
Nothing here calls AWS.
"""
