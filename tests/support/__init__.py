"""Shared test support: a world builder, digests, and the Hypothesis profiles (registered in the
root conftest). Import from here instead of writing another copy in a test file."""
