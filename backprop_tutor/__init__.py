"""backprop-tutor: exact, explained exercises on derivatives and backpropagation."""

__version__ = "0.1.0"
