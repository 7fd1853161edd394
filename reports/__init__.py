"""medgate reports."""
