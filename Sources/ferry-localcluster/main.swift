// ferry-localcluster up --dir DIR: runs LocalCluster in the foreground (filled in by the local control plane issue).
import LocalCluster
print("ferry-localcluster: not built yet")
