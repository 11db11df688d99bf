import ArgumentParser
import Kopia

/// The `--azure-…` flags of every command that opens a repository. Account, key and SAS come only from the
/// environment (`KOPIA_AZURE_STORAGE_ACCOUNT`/`AZURE_STORAGE_ACCOUNT`, `KOPIA_AZURE_STORAGE_KEY`/`AZURE_STORAGE_KEY`,
/// `AZURE_STORAGE_SAS_TOKEN`), never from flags, so they stay out of process listings.
struct AzureOptions: ParsableArguments {
    @Option(name: .customLong("azure-domain"),
            help: ArgumentHelp("Blob service domain for azure:// repositories; the service is https://<account>.<domain> (default: $AZURE_STORAGE_DOMAIN, else blob.$AZURE_ENDPOINT_SUFFIX, else blob.core.windows.net; http://domain for plain-HTTP test servers).",
                               valueName: "DOMAIN"))
    var domain: String?

    var overrides: AzureConfiguration.Overrides { AzureConfiguration.Overrides(domain: domain) }
}
