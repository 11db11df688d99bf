// Kopia: Ferry's own reader and writer of Kopia repositories.
// Folders follow the repository format bottom up (kopia-format.md §0):
// Support/ Storage/ Format/ Codecs/ Content/ Objects/ Snapshots/ Restore/ Write/.
// A folder uses only the folders below it.
