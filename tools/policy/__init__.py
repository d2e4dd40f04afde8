"""The policy gate: checkov and AWS Control Tower's Guard rules over every built template.

Each checker runs from its own virtual environment (the Makefile makes them); this package uses
the standard library only, reads build/, and fails on any finding the template does not justify.
"""
