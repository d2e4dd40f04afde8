"""Deploy: the only code that talks to AWS (package, change set, review, guard, apply).

It reads `build/ENV/` and never builds templates. AWS calls go through clients made in
`session.py`; decisions are small pure functions fed with AWS responses so tests can feed
recorded ones.
"""
