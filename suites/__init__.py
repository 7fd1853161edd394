"""medgate suites."""
