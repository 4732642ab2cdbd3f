"""nbconvert preprocessors for the feedback students receive."""

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool


class ShortenTestTracebacks(Preprocessor):
    """Cut a test cell's traceback to its last line.

    A traceback quotes the source around the failing line, and in a test cell that source
    can include the hidden regions that ClearHiddenTests removed from the cell itself.
    """

    enabled = Bool(True, help="nbconvert runs preprocessors only when enabled").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources
