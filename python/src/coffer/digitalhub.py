"""Digital Hub's project secrets over a Coffer vault.

Digital Hub's SDK keeps key-value secrets per project: ``project.new_secret(name=...,
secret_value=...)``, ``project.get_secret(entity_name=...).read_secret_value()``,
``secret.set_secret_value(value=...)``, ``project.list_secrets()``,
``project.delete_secret(entity_name=...)``. Here a project is Coffer's ``--project`` scope, in the
vault the CLI would use (or ``vault=PATH``). Every call opens the vault, unlocks it from the
environment when it needs a value, and saves at once.
"""
from .errors import NotFoundError
from .vault import Vault


def get_or_create_project(name, *, vault=None):
    """The project ``name`` (a Coffer project scope: nothing to create until a secret is set)."""
    return Project(name, vault=vault)


class Project:
    def __init__(self, name, *, vault=None):
        self.name = name
        self.vault = vault

    def _open(self):
        return Vault(self.vault)

    def _entries(self, opened):
        return [entry for entry in opened.list() if entry["project"] == self.name and not entry["domain"]]

    def new_secret(self, name, secret_value, *, description=None):
        """Creates secret ``name``; ConflictError if the project has it already."""
        with self._open() as opened:
            opened.unlock()
            opened.set(name, secret_value, project=self.name, description=description)
            opened.save()
        return Secret(self, name)

    def get_secret(self, entity_name):
        """The secret ``entity_name`` of this project (its value is read by ``read_secret_value``)."""
        with self._open() as opened:
            if not any(entry["name"] == entity_name for entry in self._entries(opened)):
                raise NotFoundError(f"no secret {entity_name} (project {self.name})")
        return Secret(self, entity_name)

    def list_secrets(self):
        """This project's secrets, by name (no values are read)."""
        with self._open() as opened:
            return [Secret(self, entry["name"], entry["description"]) for entry in self._entries(opened)]

    def delete_secret(self, entity_name):
        with self._open() as opened:
            opened.unlock()
            opened.delete(entity_name, project=self.name)
            opened.save()

    def __repr__(self):
        return f"Project(name={self.name!r})"


class Secret:
    """A project's secret: its name and description; the value only through ``read_secret_value``."""

    def __init__(self, project, name, description=""):
        self.project = project
        self.name = name
        self.description = description

    def read_secret_value(self):
        with self.project._open() as opened:
            opened.unlock()
            return opened.get_str(self.name, project=self.project.name)

    def set_secret_value(self, value):
        with self.project._open() as opened:
            opened.unlock()
            opened.set(self.name, value, project=self.project.name, overwrite=True)
            opened.save()

    def __repr__(self):
        return f"Secret(project={self.project.name!r}, name={self.name!r})"

    def __eq__(self, other):
        return isinstance(other, Secret) and (self.project.name, self.name) == (other.project.name, other.name)
