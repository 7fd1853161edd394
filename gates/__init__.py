"""medgate gates."""
