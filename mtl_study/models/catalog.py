"""The model registry: registered names, their options, `build` and `build_task_model`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from torch import nn

from mtl_study.data.schema import TASKS, Inputs
from mtl_study.models.afnn import AFNN
from mtl_study.models.covid_mtl import build_covid_mtl
from mtl_study.models.heads import VolumeHead
from mtl_study.models.registry import Option, Registry, RegistryError
from mtl_study.models.resnet3d import ResNet3D
from mtl_study.models.shift3d import Shift3D
from mtl_study.models.squeezenet3d import SqueezeNet3D
from mtl_study.models.task_model import TaskModel, check_tasks

TASK_NAMES = tuple(TASKS)

_CNN = {
    "num_classes": Option(2, int, "output classes"),
    "in_channels": Option(1, int, "input channels"),
}
_DROPOUT = {"dropout": Option(0.3, float, "dropout before the classifier(s)")}
_SHIFT = {
    "shift_chance": Option(0.25, float, "Shift3D: probability that a sample is shifted"),
    "max_shift": Option(0.2, float, "Shift3D: largest shift as a fraction of the axis (p)"),
    "is_padding": Option(False, bool, "Shift3D: fill re-entering voxels instead of rolling"),
    "padding_value": Option(0.0, float, "Shift3D: fill value when is_padding"),
    "batch_shift": Option(False, bool, "Shift3D: one shift for the whole batch"),
    "total_steps": Option(0, int, "Shift3D: cosine-decay the chance to 0 over these steps"),
}
_AFNN = {
    "n_features": Option(375, int, "length of the feature vector"),
    "log_threshold": Option(1e3, float, "AFNN scaler: signed-log columns whose max |x| exceeds"),
}

MODELS = Registry("model")


def _shift3d(options: dict[str, Any]) -> Shift3D:
    return Shift3D(**{key: options[key] for key in _SHIFT})


MODELS.register(
    "resnet3d34",
    lambda o: ResNet3D(o["num_classes"], o["in_channels"]),
    _CNN,
    "ResNet3D-34 single-task CNN (basic blocks 3, 4, 6, 3)",
)
MODELS.register(
    "squeezenet3d",
    lambda o: SqueezeNet3D(o["num_classes"], o["in_channels"], o["dropout"]),
    _CNN | _DROPOUT,
    "SqueezeNet3D single-task CNN (8 Fire modules, 3.66 M parameters)",
)
MODELS.register(
    "shiftnet3d",
    lambda o: SqueezeNet3D(o["num_classes"], o["in_channels"], o["dropout"], _shift3d(o)),
    _CNN | _DROPOUT | _SHIFT,
    "ShiftNet3D single-task CNN: SqueezeNet3D + Shift3D after the stem",
)
MODELS.register(
    "covid_mtl",
    lambda o: build_covid_mtl(**o),
    {
        "tasks": Option(TASK_NAMES, tuple, "tasks sharing the trunk", TASK_NAMES),
        "shift3d": Option(True, bool, "Shift3D after the stem"),
        "afnn": Option(False, bool, "concatenate the AFNN feature embedding in every head"),
        "volume": Option(True, bool, "read the CT volume (False: features-only AFNN model)"),
        "in_channels": _CNN["in_channels"],
        **_DROPOUT,
        "afnn_dropout": Option(0.2, float, "dropout between the AFNN's hidden layers"),
        **_AFNN,
        **_SHIFT,
    },
    "COVID-MTL multitask model: shared ShiftNet3D trunk, per-task heads, optional AFNN",
)
MODELS.register(
    "afnn",
    lambda o: AFNN(o["n_features"], o["num_classes"], o["dropout"], o["log_threshold"]),
    {
        "num_classes": _CNN["num_classes"],
        "dropout": Option(0.2, float, "dropout between hidden layers"),
        **_AFNN,
    },
    "AFNN feed-forward net on the feature vector (256, 128, 64, 32)",
)


def available() -> list[str]:
    """Registered model names."""
    return MODELS.names()


def options(name: str) -> dict[str, Option]:
    """Option name -> `Option` (default, type, help, choices) of model `name`."""
    return dict(MODELS.entry(name).options)


def build(name: str, **options: Any) -> nn.Module:
    """The registered network `name` itself, with `options` checked against its table.

    Raises:
        RegistryError: unknown name or option, or a value of the wrong type.
    """
    return MODELS.entry(name).factory(MODELS.resolve(name, options))


def _single_task(name: str) -> Callable[..., TaskModel]:
    def make(tasks: tuple[str, ...], n_features: int | None, options: dict[str, Any]) -> TaskModel:
        check_tasks(tasks, single_task=True)
        net = build(name, num_classes=TASKS[tasks[0]], **options)
        heads = {tasks[0]: VolumeHead(net.classifier)}
        dropout = options.get("dropout", _DROPOUT["dropout"].default)
        return TaskModel(tasks, net.trunk, None, heads, single_task=True, head_dropout=dropout)

    return make


def _afnn(tasks: tuple[str, ...], n_features: int | None, options: dict[str, Any]) -> TaskModel:
    resolved = MODELS.resolve("afnn", options)
    return build_covid_mtl(
        tasks,
        volume=False,
        afnn=True,
        n_features=n_features or resolved["n_features"],
        afnn_dropout=resolved["dropout"],
        log_threshold=resolved["log_threshold"],
    )


def _covid_mtl(
    tasks: tuple[str, ...], n_features: int | None, options: dict[str, Any]
) -> TaskModel:
    resolved = MODELS.resolve("covid_mtl", options, _RESERVED["covid_mtl"])
    if n_features is not None:
        resolved["n_features"] = n_features
    return build_covid_mtl(**(resolved | {"tasks": tasks}))


_FROM_TASKS = "set by build_task_model from the task"
_RESERVED: dict[str, dict[str, str]] = {
    "resnet3d34": {"num_classes": _FROM_TASKS},
    "squeezenet3d": {"num_classes": _FROM_TASKS},
    "shiftnet3d": {"num_classes": _FROM_TASKS},
    "covid_mtl": {"tasks": "given as the tasks argument"},
    "afnn": {"num_classes": _FROM_TASKS},
}
_INPUTS: dict[str, tuple[Inputs, ...]] = {
    "resnet3d34": (Inputs.VOLUME,),
    "squeezenet3d": (Inputs.VOLUME,),
    "shiftnet3d": (Inputs.VOLUME,),
    "covid_mtl": (Inputs.VOLUME, Inputs.FEATURES, Inputs.BOTH),
    "afnn": (Inputs.FEATURES,),
}
_SINGLE_TASK = frozenset({"resnet3d34", "squeezenet3d", "shiftnet3d"})
_TASK_MODELS: dict[str, Callable[..., TaskModel]] = {
    "resnet3d34": _single_task("resnet3d34"),
    "squeezenet3d": _single_task("squeezenet3d"),
    "shiftnet3d": _single_task("shiftnet3d"),
    "covid_mtl": _covid_mtl,
    "afnn": _afnn,
}


def reserved_options(name: str) -> dict[str, str]:
    """Options `build_task_model` sets itself for `name` (option -> why); not for study files."""
    MODELS.entry(name)
    return dict(_RESERVED[name])


def single_task(name: str) -> bool:
    """Whether model `name` is a single-task baseline (`build_task_model` takes one task)."""
    MODELS.entry(name)
    return name in _SINGLE_TASK


def allowed_inputs(name: str) -> tuple[Inputs, ...]:
    """The `inputs` values model `name` accepts in `build_task_model`."""
    MODELS.entry(name)
    return _INPUTS[name]


def _inputs_options(name: str, inputs: Inputs, options: dict[str, Any]) -> dict[str, Any]:
    """For covid_mtl, derive `volume` and `afnn` from `inputs`; explicit values must agree."""
    if name != "covid_mtl":
        return options
    derived = {
        "volume": inputs in (Inputs.VOLUME, Inputs.BOTH),
        "afnn": inputs in (Inputs.FEATURES, Inputs.BOTH),
    }
    for key, value in derived.items():
        if key in options and options[key] != value:
            raise RegistryError(
                f"model 'covid_mtl' option {key!r}={options[key]!r} contradicts "
                f"inputs={inputs.value!r} (which implies {key}={value})"
            )
    return options | derived


def build_task_model(
    name: str,
    tasks: Iterable[str],
    inputs: str | Inputs = Inputs.VOLUME,
    n_features: int | None = None,
    **options: Any,
) -> TaskModel:
    """The `TaskModel` the trainer uses for registered model `name`.

    Args:
        name: a registered model (`available()`).
        tasks: tasks to predict; exactly one for the single-task CNNs.
        inputs: `volume`, `features` or `both` (`mtl_study.data.schema.Inputs`).
        n_features: feature vector length when the model reads features (default 375).
        **options: the model's options (`options(name)`) except `reserved_options(name)`.

    Raises:
        RegistryError: unknown name/option, wrong value type, or inputs the model cannot read.
        ValueError: unknown, repeated or (for single-task models) several tasks.
    """
    try:
        inputs = Inputs(inputs)
    except ValueError:
        raise RegistryError(
            f"unknown inputs {inputs!r}; valid: {', '.join(i.value for i in Inputs)}"
        ) from None
    allowed = allowed_inputs(name)
    if inputs not in allowed:
        raise RegistryError(
            f"model {name!r} cannot read inputs={inputs.value!r}; valid: "
            f"{', '.join(i.value for i in allowed)}"
        )
    MODELS.resolve(name, options, _RESERVED[name])
    options = _inputs_options(name, inputs, dict(options))
    return _TASK_MODELS[name](tuple(tasks), n_features, options)
