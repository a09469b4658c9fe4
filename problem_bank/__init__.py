"""The shipped problem bank: one YAML template per file (installed as backprop_tutor.problem_bank)."""
