/**
 * The store's group commit: a burst of concurrent changes is written in a few writes, each change is answered only
 * once it is on disk, changes apply in arrival order, and a change that throws inside a burst leaves no trace while
 * the others of the same burst land.
 */
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { STATE_FILE, Store, type State } from "../../reference-backend/src/store";

let dir: string;
let store: Store;

beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "store-test-"));
    // The smallest state the store accepts: a real seed's shape is not needed to test commits.
    ({ store } = await Store.open(dir, async () => ({ schemaVersion: 1, counter: 0, log: [] }) as unknown as State));
});
afterEach(async () => {
    await store.flush();
    await fs.rm(dir, { recursive: true, force: true });
});

type Doc = { counter: number; log: string[] };
const doc = (s: unknown) => s as Doc;
const onDisk = async (): Promise<Doc> => JSON.parse(await fs.readFile(path.join(dir, STATE_FILE), "utf8"));

test("200 concurrent changes: all applied in arrival order, each answered after it is on disk, in a few writes", async () => {
    const writesBefore = store.writeCount;
    const answered: number[] = [];
    const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
            store
                .update((draft) => {
                    doc(draft).counter++;
                    doc(draft).log.push(`change-${i}`);
                    return doc(draft).counter;
                })
                .then(async (n) => {
                    // Acknowledged means persisted: the file already holds this change.
                    expect((await onDisk()).log).toContain(`change-${i}`);
                    answered.push(i);
                    return n;
                }),
        ),
    );
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(doc(store.state).log).toEqual(Array.from({ length: 200 }, (_, i) => `change-${i}`));
    expect((await onDisk()).counter).toBe(200);
    expect(answered).toHaveLength(200);
    expect(store.writeCount - writesBefore).toBeLessThan(20);
});

test("a change that throws inside a burst leaves nothing behind; the others land", async () => {
    const outcomes = await Promise.allSettled([
        store.update((d) => void doc(d).log.push("a")),
        store.update((d) => {
            doc(d).log.push("half-done");
            doc(d).counter = 999;
            throw new Error("invalid change");
        }),
        store.update((d) => void doc(d).log.push("b")),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe("invalid change");
    expect(doc(store.state)).toMatchObject({ counter: 0, log: ["a", "b"] });
    expect(await onDisk()).toMatchObject({ counter: 0, log: ["a", "b"] });
});

test("a burst of only failing changes writes nothing", async () => {
    const before = store.writeCount;
    await expect(store.update(() => { throw new Error("no"); })).rejects.toThrow("no");
    expect(store.writeCount).toBe(before);
});
