"""A citizen's own filings: sign-in by SMS code, no account (service.py says why)."""
