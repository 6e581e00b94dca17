"""Early warning of return to poverty: the rules file, the four kinds as SQL, the scan that raises alerts."""
