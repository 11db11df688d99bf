// The harness lives in E2ETestSupport (Tests/Support/E2ETestSupport): re-exported so that every file of this target
// sees it (ControllerCluster's and KopiaCluster's inherited members, `poll`, `FerryProcess`) without importing it.
@_exported public import E2ETestSupport
