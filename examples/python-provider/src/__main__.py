"""Entry point of the pyfile plugin when run as a zip application."""

import goplugin_serve
import os
import pyfile


def main():
    log = goplugin_serve.Logger(os.environ.get(goplugin_serve.LOG_LEVEL_ENV))
    goplugin_serve.serve(pyfile.PyFile(log), log)


if __name__ == "__main__":
    main()
