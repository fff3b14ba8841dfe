/**
 * The resources the group tests put on every node: one per response class and suppression
 * profile (RFC 7390 §2.7, R57-R58), a resource that did not opt in to multicast (R54), and
 * discovery attributes (RFC 6690) that differ between nodes. Every handler counts its calls.
 */
import { CoapResponseError } from '../../src/errors.js';
import type { CoapServer } from '../../src/server/server.js';
import { count, type Room, type RoomNode } from './group-room.js';

/** Node state a test can inspect: the value of `/private`. */
export interface NodeState {
  value: string;
}

/**
 * Returns a `setup` for `makeRoom` and the per-node state. Node 0 and node 2 publish `/lamp`
 * with `rt="light"`, the others `/sensor` with `rt="temp"`.
 */
export function matrixSetup(
  room: () => Room,
): [(server: CoapServer, node: RoomNode) => void, Map<number, NodeState>] {
  const states = new Map<number, NodeState>();
  const setup = (s: CoapServer, node: RoomNode) => {
    const state: NodeState = { value: 'off' };
    states.set(node.index, state);
    const seen = (key: string) => count(node, key, room().rt.now());
    s.resource('/text', { multicast: true })
      .get(() => {
        seen('GET /text');
        return { payload: `text${node.index}` };
      })
      .post(() => {
        seen('POST /text');
        return { location: ['items', String(node.index)] };
      });
    s.resource('/empty', { multicast: true }).get(() => {
      seen('GET /empty');
      return {};
    });
    s.resource('/client-error', { multicast: true }).get(() => {
      seen('GET /client-error');
      throw new CoapResponseError('4.00', 'bad');
    });
    s.resource('/server-error', { multicast: true }).get(() => {
      seen('GET /server-error');
      throw new Error('handler failed');
    });
    s.resource('/changed', { multicast: true }).put(() => {
      seen('PUT /changed');
      return undefined;
    });
    // The lighting-control profile: every 2.xx suppressed.
    s.resource('/quiet', { multicast: { success: true } })
      .get(() => {
        seen('GET /quiet');
        return { payload: 'on' };
      })
      .put(() => {
        seen('PUT /quiet');
        return undefined;
      });
    // 4.xx are worth hearing about on this one.
    s.resource('/loud4', { multicast: { clientError: false } })
      .get(() => {
        seen('GET /loud4');
        throw new CoapResponseError('4.04', 'gone');
      })
      .post(() => {
        seen('POST /loud4');
        throw new Error('handler failed');
      });
    // 5.xx are worth hearing about on this one; 4.xx still are not.
    s.resource('/loud5', { multicast: { serverError: false } })
      .get(() => {
        seen('GET /loud5');
        throw new Error('handler failed');
      })
      .post(() => {
        seen('POST /loud5');
        throw new CoapResponseError('4.00', 'bad');
      });
    // An empty 2.05 means something here ("no events"); 4.xx and 5.xx stay suppressed.
    s.resource('/loud-empty', { multicast: { emptyContent: false } })
      .get(() => {
        seen('GET /loud-empty');
        return {};
      })
      .post(() => {
        seen('POST /loud-empty');
        throw new Error('handler failed');
      });
    // Every switch on: nothing but a non-empty 2.xx goes out.
    s.resource('/strict', {
      multicast: { success: false, clientError: true, serverError: true, emptyContent: true },
    })
      .get(() => {
        seen('GET /strict');
        return {};
      })
      .post(() => {
        seen('POST /strict');
        throw new Error('handler failed');
      });
    // Did not opt in to multicast (R54).
    s.resource('/private')
      .get(() => ({ payload: state.value }))
      .put((req) => {
        seen('PUT /private');
        state.value = req.text();
        return undefined;
      });
    const lamp = node.index === 0 || node.index === 2;
    s.resource(lamp ? '/lamp' : '/sensor', { multicast: true, rt: lamp ? 'light' : 'temp' }).get(() => ({
      payload: 'on',
    }));
  };
  return [setup, states];
}
