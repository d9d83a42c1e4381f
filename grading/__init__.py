"""Atlas's grader: nbgrader-exact scores from sandboxed execution.

This package imports neither Flask nor `lms`: a job goes in, a result comes out, both typed and
JSON-serialisable, so it runs the same in-process, in a worker pool or on another machine.
"""
