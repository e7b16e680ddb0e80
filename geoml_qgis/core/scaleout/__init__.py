"""Scale-out: train the members of an ensemble as separate jobs, locally or on AWS Batch.

The same worker (:mod:`.worker`, ``python -m geoml_qgis.core.scaleout.worker train-member``)
trains one member from a data file and a JSON config that live on a local disk or on S3.
:mod:`.local` runs it for every member in a pool of processes (the default; no AWS needed);
:mod:`.batch` submits it as one AWS Batch array job. :mod:`.members` collects the members
that succeeded and assembles the ensemble when enough of them did. Which model is trained is
looked up by name in :mod:`.trainers`, never imported from a string in a file.
"""
