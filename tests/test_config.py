"""TrainingConfig: every default of `tinygraph train` resolved once, from the command line's options."""

from pathlib import Path

import pytest

from tinygraph.models.cli import build_parser
from tinygraph.models.config import DATASET_DEFAULTS, NOTEBOOK_ITERATIONS, NOTEBOOK_LR, TrainingConfig
from tinygraph.models.errors import UsageError
from tinygraph.models.optimizers import Adam


def config_of(*options: str) -> TrainingConfig:
    return TrainingConfig.from_args(build_parser().parse_args(["train", *options]))


def test_no_options_make_the_default_configuration():
    assert config_of() == TrainingConfig()


def test_a_built_in_dataset_brings_its_own_iterations_and_learning_rate():
    config = config_of("--dataset", "circles")
    assert (config.iterations, config.lr) == DATASET_DEFAULTS["circles"]


def test_csv_data_take_the_notebooks_iterations_and_learning_rate():
    config = config_of("--train", "a.csv", "--val", "b.csv")
    assert (config.iterations, config.lr, config.dataset) == (NOTEBOOK_ITERATIONS, NOTEBOOK_LR, None)
    assert config.train == Path("a.csv") and config.source == "a.csv and b.csv"


def test_layers_bring_a_deeper_nets_defaults():
    config = config_of("--layers", "64,32")
    assert (config.optimizer, config.lr, config.batch_size, config.epochs, config.iterations, config.init) == (
        "adam", Adam.default_lr, 32, 50, None, "xavier"
    )
    assert config.hidden_layers == [64, 32] and config.labels == "classes"


def test_another_optimizer_for_the_notebooks_network_starts_from_its_own_learning_rate():
    assert config_of("--optimizer", "adam").lr == Adam.default_lr


def test_options_given_override_the_preset():
    config = config_of("--layers", "8", "--lr", "0.3", "--iterations", "7", "--batch-size", "5")
    assert (config.lr, config.iterations, config.epochs, config.batch_size) == (0.3, 7, None, 5)


def test_epochs_replace_the_notebooks_iterations():
    config = config_of("--epochs", "3")
    assert (config.epochs, config.iterations) == (3, None) and config.count == {"epochs": 3}


def test_the_notebooks_settings_make_its_classifier_and_any_other_an_mlp():
    assert type(config_of().network(2, 2)).__name__ == "Classifier"
    assert type(config_of("--activation", "tanh").network(2, 2)).__name__ == "MLP"
    assert type(config_of().network(2, 3)).__name__ == "MLP"


def test_options_that_clash_raise_a_usage_error_naming_them():
    with pytest.raises(UsageError, match="--scheduler"):
        config_of("--scheduler", "tcp://host:8786")
