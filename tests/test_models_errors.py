"""models/ raises one family of errors: every error class it defines derives from tinygraph's TinygraphError."""

import importlib
import inspect
import pkgutil

import pytest

import tinygraph.models
import tinygraph as tg
from tinygraph.models import errors

MODULES = [info.name for info in pkgutil.walk_packages(tinygraph.models.__path__, "tinygraph.models.")]


@pytest.mark.parametrize("name", MODULES)
def test_every_error_class_a_module_defines_is_a_tinygraph_error(name):
    module = importlib.import_module(name)
    defined = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
               if cls.__module__ == name and issubclass(cls, BaseException)]  # fmt: skip
    assert all(issubclass(cls, tg.TinygraphError) for cls in defined), defined


@pytest.mark.parametrize(
    ("error", "builtin"),
    [(errors.DataError, ValueError), (errors.ParameterError, ValueError), (errors.ConfigError, ValueError),
     (errors.TrainingDivergedError, ArithmeticError), (errors.MissingPackageError, ImportError)],
)  # fmt: skip
def test_each_error_is_also_the_builtin_error_of_its_kind(error, builtin):
    assert issubclass(error, builtin) and issubclass(error, tg.TinygraphError)
