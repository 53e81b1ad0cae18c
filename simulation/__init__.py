"""A simulated year of referrals and vacancies, the policies that place them, the
hindsight bound they are measured against, and what-if comparisons.

Pure: no database, network or files; imports only :mod:`optimiser` (and numpy/SciPy).
"""
