"""The platform's commands, one module each: ``build_parser(parser=None)`` defines the flags once
(``python -m danet NAME`` and the ``tools/*.py`` shims share it) and ``run(args)`` calls the
library. ``main(argv)`` parses and runs, for the shims and for tests."""
