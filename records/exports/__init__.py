"""Evidence-grade exports: RSMF, EML/MBOX, PDF/A, JSON Lines, CSV; signed packages."""
