"""Generator module `config`: the Java-properties lexer used for config files.

spec/grammar/config.re (re2c) -> gen/config.re.c. The lexer's API is declared
in runtime/props.h; runtime/config.c builds the typed config table on it.
"""
MODULE = "config"

GRAMMAR = "spec/grammar/config.re"


def lint(spec, errors):
    import os
    if not os.path.exists(os.path.join(spec.root, GRAMMAR)):
        errors.append("%s: missing (the config lexer grammar)" % GRAMMAR)


def generate(spec, out):
    out.re2c(GRAMMAR, "config.re.c")
