"""What the test folders share: the sample app, rendered templates, the fixture build, the fake
AWS gateway and recorded AWS answers, a clock, the linter binaries. Tests import helpers from
here, never from another test module (tests/test_test_layout.py checks it)."""
