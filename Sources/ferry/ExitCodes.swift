/// Process exit codes shared by every `ferry` command. Documented in `ferry --help`.
enum ExitCodes {
    /// Success.
    static let success: Int32 = 0
    /// A failure not covered below (I/O error, internal error).
    static let failure: Int32 = 1
    /// Bad command line: unknown flag, missing argument, unparseable value.
    static let usage: Int32 = 2
    /// The repository could not be opened: not a Kopia repository, wrong password, unsupported format.
    static let repository: Int32 = 3
    /// The selection matched nothing, or more than one thing (snapshot, identity, path).
    static let notFound: Int32 = 4
    /// Data is damaged: corrupt or missing blobs or contents. `restore`/`verify` use it when any file failed
    /// because of the repository's data (the failed paths are listed with their pack blobs).
    static let damaged: Int32 = 5
    /// A remote peer (CSI driver, API server, S3) was unreachable or answered with an error.
    static let unavailable: Int32 = 6
    /// The operation completed partially (some files failed); details were printed. `restore` uses it when
    /// paths failed for local reasons only (refused names, a file or symlink in the way, permissions).
    static let partial: Int32 = 7
    /// `populate`: the volume is smaller than the snapshot's files (checked before anything is written).
    static let volumeTooSmall: Int32 = 8

    static let help = """
        EXIT CODES:
          0  success
          1  failure not covered below (I/O, internal)
          2  usage error (bad flag or argument)
          3  repository cannot be opened (not a repository, wrong password, unsupported format)
          4  the selection matched nothing, or more than one thing (snapshot, identity, path)
          5  damaged data (corrupt or missing blob or content; restore/verify list the files and packs)
          6  remote peer unavailable or failed (CSI driver, API server, S3)
          7  partial success (some items failed for local reasons; see the list printed)
          8  populate: the volume is too small for the snapshot
        """
}
