"""geoml:trainspectralclassifier — a 1D CNN for mineral mapping from a spectral library and/or labelled pixels."""
from __future__ import annotations

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeatureRequest,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER, SOURCE_VECTOR_POINT, SOURCE_VECTOR_POLYGON
from ...core.errors import Cancelled, GeoMLError
from ...core.hyperspectral.preprocess import METHODS as PREPROCESSING
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.choices import OneOf
from ..common.fields import field_parameter
from ..common.parameters import enum_choice, enum_parameter


class TrainSpectralClassifier(GeoMLAlgorithm):
    NAME = "trainspectralclassifier"
    DISPLAY_NAME = "Train spectral classifier (1D CNN)"
    PARAMETER_HELP = {
        "TRAINING_CUBE": "A cube whose pixels under the training labels are the training spectra (with or instead of "
                         "a library).",
        "TRAINING_LABELS": "Points or polygons over the training cube, each with its class in the class field.",
        "CLASS_FIELD": "Class (mineral) of each training label (class, mineral, label... found by name).",
        "TARGET_CUBE": "The cube you will classify: the library is resampled onto its bands (Gaussian response from "
                       "each band's centre and FWHM).",
        "AUGMENT": "Build a larger training set: linear mixtures with other classes (own class at least 50 %), "
                   "illumination scaling x0.5-1.5 and noise.",
        "SNR": "Signal-to-noise ratio of the noise added by augmentation.",
    }
    GROUP = "hyperspectral"
    REQUIRES = ("torch",)
    ONE_OF = (OneOf("the training spectra", (("LIBRARY",), ("TRAINING_CUBE", "TRAINING_LABELS", "CLASS_FIELD"))),)
    HELP = (
        "Trains a one-dimensional convolutional network (DeepGeoMap style) that names the mineral of a pixel from "
        "its spectrum alone. It can learn from laboratory or field spectra of validated samples and then map "
        "airborne, satellite or mine-face images of another sensor.<br>"
        "<b>Spectral library</b>: an ENVI spectral library (.sli with its .hdr; 'spectra names' give the class of "
        "each spectrum) or a CSV table (a wavelength column, in nm or µm, then one column per spectrum whose header "
        "is its class; repeat a header for several spectra of one class). Class 1 of the outputs is the first "
        "class name met in the library.<br>"
        "<b>Training cube / Training labels / Class field</b>: optionally (or instead), pixels of a cube under "
        "labelled points or polygons.<br>"
        "<b>Target cube</b>: the cube you will classify; the library is resampled onto its bands (Gaussian "
        "response from each band's centre and FWHM). Without it the model uses the training data's own bands and "
        "any cube is resampled when classified.<br>"
        "<b>Preprocessing</b>: brightness normalisation (fast, removes illumination), continuum removal (depth "
        "of absorption features), first derivative, or none.<br>"
        "<b>Augment</b>: builds a training set from few spectra: linear mixtures with other classes (own class "
        "keeps at least 50 %), illumination scaling x0.5-1.5 and noise at the chosen <b>SNR</b>.<br>"
        "<b>Epochs</b>, <b>Seed</b>: training length and reproducibility.<br>"
        "Outputs: the <b>model</b> file (weights and metadata, no executable content) and an HTML <b>report</b> "
        "with training curves and the confusion matrix on held-out spectra."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFile(
            "LIBRARY", self.tr("Spectral library (or cube)"), optional=True,
            fileFilter="Spectral libraries (*.sli *.hdr *.csv);;All files (*.*)"))
        self.addParameter(QgsProcessingParameterRasterLayer("TRAINING_CUBE", self.tr("Training cube (or library)"), optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            "TRAINING_LABELS", self.tr("Training labels (with cube)"),
            [SOURCE_VECTOR_POINT, SOURCE_VECTOR_POLYGON], optional=True))
        self.addParameter(field_parameter("CLASS_FIELD", self.tr("Class field (of labels)"), "TRAINING_LABELS", "class",
                                          optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer("TARGET_CUBE", self.tr("Target cube (its bands)"), optional=True))
        self.addParameter(enum_parameter("PREPROCESSING", self.tr("Preprocessing"), PREPROCESSING, "brightness"))
        self.addParameter(QgsProcessingParameterBoolean("AUGMENT", self.tr("Augment the training set"), defaultValue=True))
        self.addParameter(QgsProcessingParameterNumber("SNR", self.tr("Noise SNR (augmentation)"),
                                                       NUMBER_DOUBLE, 100.0, minValue=5.0))
        self.addParameter(QgsProcessingParameterNumber("EPOCHS", self.tr("Epochs"), NUMBER_INTEGER, 40, minValue=1, maxValue=1000))
        self.addParameter(QgsProcessingParameterNumber("SEED", self.tr("Random seed"), NUMBER_INTEGER, 0, minValue=0))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_MODEL", self.tr("Model file"), "GeoML model (*.pt)"))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Training report"), "HTML (*.html)", optional=True))
        self.addOutput(QgsProcessingOutputNumber("HELD_OUT_ACCURACY", self.tr("Held-out accuracy")))

    def execute(self, parameters, context, feedback):
        from ...core.hyperspectral.train import train_and_save

        library = self.parameterAsFile(parameters, "LIBRARY", context) or None
        cube_layer = self.parameterAsRasterLayer(parameters, "TRAINING_CUBE", context)
        target_layer = self.parameterAsRasterLayer(parameters, "TARGET_CUBE", context)
        geometries, classes = [], []
        if cube_layer is not None:
            geometries, classes = self._labels(parameters, context, cube_layer, feedback)
        prep = enum_choice(self, parameters, "PREPROCESSING", PREPROCESSING, context)
        out_model = self.model_output(parameters, context, feedback)
        out_report = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context) or None
        args = dict(
            library_path=library, training_cube=cube_layer.source() if cube_layer else None,
            target_cube=target_layer.source() if target_layer else None, preprocessing=prep,
            use_augmentation=self.parameterAsBool(parameters, "AUGMENT", context),
            epochs=self.parameterAsInt(parameters, "EPOCHS", context), seed=self.parameterAsInt(parameters, "SEED", context),
            snr=self.parameterAsDouble(parameters, "SNR", context),
        )
        summary = train_and_save(out_model, out_report, label_geometries=geometries, label_classes=classes,
                                 parameters=args, warn=feedback.pushWarning, progress=progress_callback(feedback), **args)
        held = summary["held_out"]
        feedback.pushInfo(f"Classes (1..{len(summary['classes'])}): {', '.join(summary['classes'])}")
        feedback.pushInfo(f"Held-out accuracy {held['accuracy']:.3f}, kappa {held['kappa']:.3f} on {held['n']} spectra; "
                          f"{summary['n_bands']} sensor bands.")
        return {"OUTPUT_MODEL": out_model, "OUTPUT_REPORT": out_report, "HELD_OUT_ACCURACY": held["accuracy"]}

    def _labels(self, parameters, context, cube_layer, feedback):
        source = self.parameterAsSource(parameters, "TRAINING_LABELS", context)
        field = self.parameterAsString(parameters, "CLASS_FIELD", context)
        if source is None or not field:
            raise GeoMLError("With a training cube, choose the training labels layer and its class field.")
        idx = source.fields().lookupField(field)
        if idx < 0:
            raise GeoMLError(f"Field '{field}' not found in the training labels.")
        cube_crs = cube_layer.crs()
        transform = None
        if cube_crs.isValid() and source.sourceCrs().isValid() and cube_crs != source.sourceCrs():
            transform = QgsCoordinateTransform(source.sourceCrs(), QgsCoordinateReferenceSystem(cube_crs), context.transformContext())
        geometries, classes = [], []
        for feat in source.getFeatures(QgsFeatureRequest()):
            if feedback.isCanceled():
                raise Cancelled("Cancelled by the user")
            value = feat.attributes()[idx]
            geom = feat.geometry()
            if geom.isNull() or value is None or str(value) in ("", "NULL"):
                continue
            if transform is not None:
                geom.transform(transform)
            geometries.append(geom.asWkt())
            classes.append(str(value))
        return geometries, classes
