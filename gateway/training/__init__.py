"""Training: courses, enrolments, attendance, completions and certificates. Its mutations are
generated from the contracts (``gateway/commands.py``); her enrolments and certificates are
read as fields of ``Member`` (``gateway/members/member.py``), courses here (``queries.py``)."""
