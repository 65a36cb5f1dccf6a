"""`tinygraph tune --space`: entries become Optuna distributions and trials train's options; bad entries are named."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from tinygraph.models.commands.tune import train_parser
from tinygraph.models.tune_space import SpaceError, parse_space


def test_a_range_of_whole_numbers_is_an_int_distribution_and_a_log_range_a_float_one():
    space = parse_space("hidden=10..200 lr=1e-4..1:log")
    assert space.distributions == {
        "hidden": IntDistribution(10, 200),
        "lr": FloatDistribution(1e-4, 1.0, log=True),
    }


def test_a_step_after_the_range_makes_a_stepped_distribution():
    space = parse_space("hidden=10..50:10 dropout=0..0.5:0.25")
    assert space.distributions == {
        "hidden": IntDistribution(10, 50, step=10),
        "dropout": FloatDistribution(0.0, 0.5, step=0.25),
    }


def test_choices_are_read_as_train_reads_them():
    space = parse_space("optimizer=sgd,adam hidden=10,50")
    assert space.distributions == {
        "optimizer": CategoricalDistribution(["sgd", "adam"]),
        "hidden": CategoricalDistribution([10, 50]),
    }


def test_layers_choices_are_separated_by_a_bar_and_a_single_layers_value_is_fixed():
    assert parse_space("layers=16|32,32").distributions == {"layers": CategoricalDistribution(["16", "32,32"])}
    assert parse_space("layers=32,32").fixed == ("--layers=32,32",)


def test_one_value_is_fixed_in_every_trial_and_comes_before_the_searched_ones():
    space = parse_space("epochs=20 lr=0.1..1 batch_size=16")
    assert space.fixed == ("--epochs=20", "--batch-size=16")
    assert space.argv({"lr": 0.5}) == ["--epochs=20", "--batch-size=16", "--lr=0.5"]


@given(st.floats(min_value=1e-300, max_value=1e300))
def test_a_sampled_float_reaches_train_with_every_digit(lr):
    args = train_parser().parse_args(parse_space("lr=1e-300..1e300:log").argv({"lr": lr}))
    assert args.lr == lr


@pytest.mark.parametrize(
    "entry, says",
    [
        ("colour=1..3", "tinygraph train has no option --colour"),
        ("dataset=moons", "not a hyperparameter"),
        ("seed=1..5", "not a hyperparameter"),
        ("hidden=1.5..3", "'1.5' is not a whole number above 0"),
        ("lr=0..1:log", "'0' is not a number above 0"),
        ("lr=2..1", "the low end 2.0 is above the high end 1.0"),
        ("optimizer=sgd,nadam", "invalid choice: 'nadam'"),
        ("layers=1..3", "layers takes no range"),
        ("hidden=1..3:fast", "after ':' write log or a step above 0"),
        ("dropout=0..1", "'1' is not a probability"),
        ("lr", "write NAME=VALUES"),
        ("hidden=1,1", "a choice is listed twice"),
    ],
)
def test_a_bad_entry_is_refused_in_one_line_naming_it(entry, says):
    with pytest.raises(SpaceError) as error:
        parse_space(f"epochs=5 {entry}")
    message = str(error.value)
    assert f"--space {entry!r}" in message and says in message and "\n" not in message


def test_an_option_given_twice_is_refused():
    with pytest.raises(SpaceError, match="lr is given twice"):
        parse_space("lr=0.1 lr=0.1..1")


def test_the_grid_holds_every_combination_once_in_an_order_set_by_the_seed():
    space = parse_space("hidden=2..6:2 optimizer=sgd,adam")
    grid = space.grid(seed=1)
    expected = [{"hidden": h, "optimizer": o} for h in (2, 4, 6) for o in ("sgd", "adam")]
    assert sorted(grid, key=str) == sorted(expected, key=str)
    assert space.grid(seed=1) == grid != space.grid(seed=2)


def test_the_grid_refuses_a_range_without_a_step_naming_it():
    with pytest.raises(SpaceError, match="--space lr is a range without a step"):
        parse_space("lr=0.1..1").grid(seed=1)
