/**
 * The provider object of IdentityOidcAuth resources, as this module's whole exports (`pulumi-oidc-settings/providers/IdentityOidcAuth`):
 * from an installed package the SDK serializes it as a `require()` of this module (see ../engine/forwarder.ts).
 */
import { makeForwarder } from "../engine/forwarder";

export = makeForwarder("IdentityOidcAuth");
