"""Public-records (FOIA and state equivalents) requests: intake to production."""
