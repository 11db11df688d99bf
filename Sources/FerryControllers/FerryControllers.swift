// FerryControllers: the controllers behind `ferry controller` (ARCHITECTURE.md §2.4).
// Folders: Grants/ Sources/ Provisioning/ Populating/ FeatureGates/ (pure decisions apart from I/O).
