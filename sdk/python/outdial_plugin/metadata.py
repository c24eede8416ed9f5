"""What a plugin says about itself: name, version, kind, config keys and,
for classifiers, labels. The host refuses config keys not declared here."""

from typing import List, Sequence

from outdial_wit.imports import types

PluginKind = types.PluginKind
ConfigKey = types.ConfigKey


class Metadata:
    """A plugin's metadata, built step by step:

    `Metadata.retry_strategy("fixed-delay", "0.1.0").key("delay", "Wait before each retry. Default: 15m.")`
    """

    def __init__(self, kind: PluginKind, name: str, version: str):
        self.kind = kind
        self.name = name
        self.version = version
        self.config_keys: List[ConfigKey] = []
        self.label_names: List[str] = []

    @classmethod
    def retry_strategy(cls, name: str, version: str) -> "Metadata":
        """Metadata of a retry strategy with no config keys yet."""
        return cls(PluginKind.RETRY_STRATEGY, name, version)

    @classmethod
    def classifier(cls, name: str, version: str) -> "Metadata":
        """Metadata of a disposition classifier with no config keys or labels yet."""
        return cls(PluginKind.DISPOSITION_CLASSIFIER, name, version)

    @classmethod
    def provider_adapter(cls, name: str, version: str) -> "Metadata":
        """Metadata of a provider adapter with no config keys yet."""
        return cls(PluginKind.PROVIDER_ADAPTER, name, version)

    def key(self, name: str, description: str, required: bool = False) -> "Metadata":
        """Declare a config key the plugin accepts; `description` is one line
        for the operator: what it does, its unit and its default."""
        self.config_keys.append(ConfigKey(name=name, required=required, description=description))
        return self

    def labels(self, labels: Sequence[str]) -> "Metadata":
        """Declare every label a classifier may return."""
        self.label_names = list(labels)
        return self

    def to_wit(self) -> types.Metadata:
        """The WIT record the host reads."""
        return types.Metadata(
            name=self.name,
            version=self.version,
            kind=self.kind,
            config_keys=list(self.config_keys),
            labels=list(self.label_names),
        )

    def __repr__(self) -> str:
        keys = ", ".join(key.name for key in self.config_keys)
        return f"Metadata({self.kind.name.lower()} {self.name} {self.version}; keys: {keys})"
