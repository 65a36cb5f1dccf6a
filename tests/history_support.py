"""What the tests of other array libraries share: two training histories that agree."""

import numpy as np

HISTORY_KEYS = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")


def assert_same_history(history, expected, atol=1e-10):
    """Every loss and accuracy of `history` within `atol` of `expected`'s, epoch by epoch."""
    for key in HISTORY_KEYS:
        np.testing.assert_allclose(history[key], expected[key], rtol=0, atol=atol, err_msg=key)
