"""Training: courses, enrolments, attendance, completions and certificates."""
