/**
 * The provider object of OidcSsoConfig resources, as this module's whole exports (`pulumi-oidc-settings/providers/OidcSsoConfig`):
 * from an installed package the SDK serializes it as a `require()` of this module (see ../engine/forwarder.ts).
 */
import { makeForwarder } from "../engine/forwarder";

export = makeForwarder("OidcSsoConfig");
