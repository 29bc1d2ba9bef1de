/**
 * The provider object of UnleashOidcSettings resources, as this module's whole exports (`pulumi-oidc-settings/providers/UnleashOidcSettings`):
 * from an installed package the SDK serializes it as a `require()` of this module (see ../engine/forwarder.ts).
 */
import { makeForwarder } from "../engine/forwarder";

export = makeForwarder("UnleashOidcSettings");
