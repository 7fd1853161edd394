"""medgate finetune."""
