"""The signatures of the @task functions of an inspect-ai task file, read by parsing it.

The plan decides how each value (data_path, prompt, system_prompt, max_tokens, ...) reaches a
task from the task's parameters, and refuses a task that cannot receive one. The file is
parsed with `ast`, never imported: importing runs the file, and a task file imports
inspect_ai, its model providers and usually torch, which takes seconds, may be absent where
the template is rendered, and would run the author's module-level code.

`signature_problems` is the same check for the job on the cluster, where this package is not
installed: its source is copied into the generated script, so it stands alone.
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass
from typing import NamedTuple

INSPECT = "inspect_ai"
TASK = "task"


class _Unknown(enum.Enum):
    # An enum member, so that copying or pickling a plan keeps `default is UNKNOWN` true.
    UNKNOWN = "UNKNOWN"

    def __repr__(self) -> str:
        return "UNKNOWN"


# A default that is an expression (a constant of the file, a call): its value is known only
# by running the file.
UNKNOWN = _Unknown.UNKNOWN


class TaskFileError(ValueError):
    """A task file whose @task functions cannot be read; the caller names the file."""


@dataclass(frozen=True)
class Parameter:
    name: str
    required: bool  # no default
    default: object  # the literal default, UNKNOWN when not a literal; None when required
    annotation: str | None  # as written, or None
    # Before a `/`: a keyword argument cannot fill it, so no task argument reaches it.
    positional_only: bool = False


# The decoding settings the plan gives inspect (--temperature, --max-tokens, --seed), which a
# task's own GenerateConfig overrides (FACTS.md): generate(temperature=1e-7) wins in silence.
DECODING_SETTINGS = ("temperature", "max_tokens", "seed")
GENERATE_CALLS = ("generate", "GenerateConfig")


@dataclass(frozen=True)
class HardCoded:
    """A decoding setting given a literal in a generate(...) or GenerateConfig(...) call."""

    setting: str
    value: object
    line: int


@dataclass(frozen=True)
class TaskFunction:
    name: str  # the name inspect registers: @task(name="x") gives "x", else the function name
    function: str  # the Python function name
    parameters: tuple[Parameter, ...]
    var_keyword: bool  # has **kwargs: accepts any argument
    line: int  # of the `def`
    hard_coded: tuple[HardCoded, ...] = ()  # literal decoding settings in its body, in file order

    def accepts(self, argument: str) -> bool:
        """Whether a task argument (inspect passes them all by keyword) of this name arrives."""
        parameter = self.parameter(argument)
        return self.var_keyword or (parameter is not None and not parameter.positional_only)

    def parameter(self, name: str) -> Parameter | None:
        return next((parameter for parameter in self.parameters if parameter.name == name), None)


class _TaskSpellings(NamedTuple):
    names: frozenset[str]  # what `@NAME` means inspect_ai.task
    modules: frozenset[str]  # what `@MODULE.task` means inspect_ai.task


def read_task_functions(source: str, filename: str = "<task file>") -> dict[str, TaskFunction]:
    """Every @task function in the source, by registered name, in file order."""
    module = _parse(source, filename)
    spellings = _task_spellings(module)
    functions: dict[str, TaskFunction] = {}
    # inspect registers the tasks that importing the file defines: the top-level ones.
    for node in module.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        decorator = _task_decorator(node, spellings)
        if decorator is None:
            continue
        task = TaskFunction(
            name=_registered_name(node, decorator),
            function=node.name,
            parameters=_parameters(node.args),
            var_keyword=node.args.kwarg is not None,
            line=node.lineno,
            hard_coded=_hard_coded(node),
        )
        if task.name in functions:
            first = functions[task.name]
            raise TaskFileError(
                f"@task {task.name!r} is registered twice, by {first.function} at line {first.line} "
                f"and by {task.function} at line {task.line}"
            )
        functions[task.name] = task
    return functions


def _parse(source: str, filename: str) -> ast.Module:
    try:
        return ast.parse(source, filename)
    except SyntaxError as error:
        raise TaskFileError(f"Python syntax error at line {error.lineno}: {error.msg}") from error
    except ValueError as error:  # null bytes, on Pythons that do not call it a SyntaxError
        raise TaskFileError(f"not Python source: {error}") from error


def _task_spellings(module: ast.Module) -> _TaskSpellings:
    """The names under which the file can reach inspect_ai.task.

    Plain `task` always counts, for `from inspect_ai import *`; imports anywhere in the file
    count, since a task file may import inside try/except."""
    names, modules = {TASK}, {INSPECT}
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and node.module == INSPECT and node.level == 0:
            names.update(alias.asname or alias.name for alias in node.names if alias.name == TASK)
        elif isinstance(node, ast.Import):
            modules.update(alias.asname for alias in node.names if alias.name == INSPECT and alias.asname)
    return _TaskSpellings(frozenset(names), frozenset(modules))


def _task_decorator(node: ast.FunctionDef | ast.AsyncFunctionDef, spellings: _TaskSpellings) -> ast.expr | None:
    for decorator in node.decorator_list:
        called = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(called, ast.Name) and called.id in spellings.names:
            return decorator
        if (
            isinstance(called, ast.Attribute)
            and called.attr == TASK
            and isinstance(called.value, ast.Name)
            and called.value.id in spellings.modules
        ):
            return decorator
    return None


def _registered_name(node: ast.FunctionDef | ast.AsyncFunctionDef, decorator: ast.expr) -> str:
    for keyword in decorator.keywords if isinstance(decorator, ast.Call) else ():
        if keyword.arg != "name":
            continue
        if isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
            return keyword.value.value
        # Guessing would check the wrong task, or refuse a right one: say so instead.
        raise TaskFileError(
            f"@task {node.name} at line {node.lineno} is registered as name={ast.unparse(keyword.value)}, "
            "not a literal string: the name cannot be read without importing the file"
        )
    return node.name


def _parameters(arguments: ast.arguments) -> tuple[Parameter, ...]:
    """The parameters in order; *args is left out, since no task argument can reach it."""
    positional = arguments.posonlyargs + arguments.args
    # Defaults belong to the last positional parameters.
    defaults = [None] * (len(positional) - len(arguments.defaults)) + arguments.defaults
    only = len(arguments.posonlyargs)
    parameters = [
        _parameter(argument, default, positional_only=index < only)
        for index, (argument, default) in enumerate(zip(positional, defaults))
    ]
    parameters += [_parameter(argument, default) for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults)]
    return tuple(parameters)


def _parameter(argument: ast.arg, default: ast.expr | None, positional_only: bool = False) -> Parameter:
    return Parameter(
        name=argument.arg,
        required=default is None,
        default=None if default is None else _literal(default),
        annotation=None if argument.annotation is None else ast.unparse(argument.annotation),
        positional_only=positional_only,
    )


def _hard_coded(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[HardCoded, ...]:
    """The literal decoding settings of the generate(...) and GenerateConfig(...) calls in the
    function's body; `generate(temperature=temperature)` passes the parameter, not a literal."""
    found = []
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        called = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
        if called not in GENERATE_CALLS:
            continue
        for keyword in call.keywords:
            if keyword.arg in DECODING_SETTINGS:
                value = _literal(keyword.value)
                if value is not UNKNOWN:
                    found.append(((keyword.value.lineno, keyword.value.col_offset), HardCoded(keyword.arg, value, keyword.value.lineno)))
    return tuple(hard for _, hard in sorted(found, key=lambda item: item[0]))  # in file order; ast.walk is not


def _literal(expression: ast.expr) -> object:
    try:
        return ast.literal_eval(expression)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


def signature_problems(source: str | bytes, function: str, arguments: list[str]) -> list[str]:
    """Why calling @task `function` of this source with exactly these keyword arguments would not
    deliver them all: the function is missing (list the @task names the file has), an argument is
    not a parameter (and there is no **kwargs), or a required parameter is not given. [] when fine.

    Copied alone into the job scripts, so it imports what it needs and calls nothing else of
    this module; it reads the file as read_task_functions does, which the tests check. The jobs
    give the file's bytes, decoded here as source.read_source decodes them at render time: a
    UTF-8 BOM is no content (Python imports such a file; ast.parse refuses U+FEFF), and bytes
    that are not UTF-8 are a problem to name, not a traceback."""
    import ast

    if isinstance(source, bytes):
        bom = 3 if source.startswith(b"\xef\xbb\xbf") else 0
        try:
            source = source[bom:].decode("utf-8")
        except UnicodeDecodeError as error:
            offset = bom + error.start
            line = source.count(b"\n", 0, offset) + 1
            return [f"is not UTF-8 text: byte 0x{source[offset]:02x} at byte offset {offset} (line {line}) cannot be "
                    "decoded; save the file as UTF-8 (for example `iconv -f cp1252 -t utf-8 FILE > NEW`)"]
    try:
        module = ast.parse(source)
    except SyntaxError as error:
        return [f"Python syntax error at line {error.lineno}: {error.msg}"]
    except ValueError as error:
        return [f"not Python source: {error}"]
    names, modules = {"task"}, {"inspect_ai"}
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and node.module == "inspect_ai" and node.level == 0:
            names.update(alias.asname or alias.name for alias in node.names if alias.name == "task")
        elif isinstance(node, ast.Import):
            modules.update(alias.asname for alias in node.names if alias.name == "inspect_ai" and alias.asname)
    tasks = {}  # registered name -> def
    for node in module.body:
        for decorator in node.decorator_list if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else ():
            called = decorator.func if isinstance(decorator, ast.Call) else decorator
            if not (isinstance(called, ast.Name) and called.id in names) and not (
                isinstance(called, ast.Attribute) and called.attr == "task"
                and isinstance(called.value, ast.Name) and called.value.id in modules
            ):
                continue
            name = node.name
            for keyword in decorator.keywords if isinstance(decorator, ast.Call) else ():
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                    name = keyword.value.value
                elif keyword.arg == "name":
                    return [f"@task {node.name} at line {node.lineno} is registered as name={ast.unparse(keyword.value)}, "
                            "not a literal string: the name cannot be read without importing the file"]
            if name in tasks:
                return [f"@task {name!r} is registered twice, by {tasks[name].name} at line {tasks[name].lineno} "
                        f"and by {node.name} at line {node.lineno}"]
            tasks[name] = node
            break
    if function not in tasks:
        return [f"has no @task named {function!r}; its @task functions: {', '.join(tasks) or 'none'}"]
    signature = tasks[function].args
    positional = signature.posonlyargs + signature.args
    first_default = len(positional) - len(signature.defaults)
    required = {a.arg: i < first_default for i, a in enumerate(positional)}  # name -> no default
    required.update((a.arg, d is None) for a, d in zip(signature.kwonlyargs, signature.kw_defaults))
    positional_only = [a.arg for a in signature.posonlyargs]
    keywords = [name for name in required if name not in positional_only]
    problems = []
    for name in arguments:
        if signature.kwarg is not None or name in keywords:
            continue
        if name in positional_only:
            problems.append(f"@task {function}'s parameter {name!r} is positional-only: no task argument can reach it")
        else:
            problems.append(
                f"@task {function} has no parameter {name!r} (it takes {', '.join(keywords) or 'no arguments'}) "
                "and no **kwargs: inspect would drop the argument and evaluate with the task's own default"
            )
    for name, needed in required.items():
        if needed and name in positional_only:
            problems.append(f"@task {function} requires {name!r}, which is positional-only: no task argument can fill it")
        elif needed and name not in arguments:
            problems.append(f"@task {function} requires {name!r}, which is not given")
    return problems
