"""The scale-out worker with the test trainer registered (``python -m tests.core.scaleout_worker``).

Workers are separate processes, so a registry monkeypatched in the test process does not
reach them; this entry point registers the test trainer and then runs the real worker.
"""
import sys

from geoml_qgis.core.scaleout import trainers, worker
from tests.core import scaleout_trainer

scaleout_trainer.register(trainers.TRAINERS)
sys.exit(worker.main())
