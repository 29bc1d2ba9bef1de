/**
 * A direct API call, as another admin or tool would make it (behind Pulumi's back): real HTTP, the body parsed as
 * JSON when it is JSON. Shared by every suite that changes or inspects live objects.
 */
import { request, type Dispatcher } from "undici";

export interface ApiResult {
    status: number;
    json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** `dispatcher`: e.g. an undici Agent that trusts a test CA, for a server behind one. */
export async function api(method: string, url: string, authorization: string, body?: unknown, dispatcher?: Dispatcher): Promise<ApiResult> {
    const res = await request(url, {
        dispatcher,
        method: method as "GET",
        headers: { authorization, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    let json: unknown = text;
    try {
        json = text ? JSON.parse(text) : undefined;
    } catch {
        // not JSON
    }
    return { status: res.statusCode, json };
}
