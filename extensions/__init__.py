"""The loader of copier-inspect-slurm: input files -> a typed plan -> Copier answers.

Each input format has its own parser module (`summary`, `finetune`, `site`); `plan` turns
their results into the plan the templates format; `context` is the Jinja extension that
Copier loads. Nothing here writes files.
"""
