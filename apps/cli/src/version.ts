/** The CLI reports acct's one version (see @acct/core/version); a module this small keeps `acct --version` instant. */
export { VERSION } from "@acct/core/version"
