"""A local AWS endpoint for trying factorstack without an AWS account (moto, pinned ==5.2.5).

`moto_gaps.py` is the one place that teaches moto what it lacks; `server.py` runs it. Product
code never asks "is this moto": it only sees an endpoint URL. `placeholder_images.py` and
`seed.py` fill that endpoint for `local-images` and `local-seed`; they sit inside deploy because
they talk to the endpoint through deploy's AWS gateway (aws/local_fill.py), like every other
AWS call.
"""
