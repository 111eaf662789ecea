"""The policy features (features/*.feature, in Japanese) run as part of the test suite, with the
step library the package ships as a pytest plugin."""

from pytest_bdd import scenarios

scenarios("../features/")
