"""Slow tier: real repo2docker builds of tests/image/fixtures, tested in running containers."""
