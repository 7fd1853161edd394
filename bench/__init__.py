"""Benchmarks behind `make bench`: speed, statistical power and judge quality, measured."""
