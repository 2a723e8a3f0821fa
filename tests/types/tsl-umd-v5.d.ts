/** Types for tsl-umd-v5 (CommonJS, untyped): the parts the tally tests use. */
declare module 'tsl-umd-v5' {
  import { EventEmitter } from 'node:events';

  namespace TSL5 {
    interface Display {
      rh_tally: number;
      text_tally: number;
      lh_tally: number;
      brightness?: number;
      text?: string;
    }
    interface Tally {
      screen: number;
      index: number;
      display: Display;
    }
    interface Received {
      sender: string | undefined;
      pbc: number;
      ver: number;
      flags: number;
      screen: number;
      index: number;
      control: number;
      length: number;
      display: Display & { text: string };
    }
  }

  class TSL5 extends EventEmitter {
    listenUDP(port: number): void;
    listenTCP(port: number): void;
    processTally(data: Uint8Array, source?: string): void;
    constructPacket(tally: TSL5.Tally, sequence?: boolean): Buffer;
    sendTallyUDP(ip: string, port: number, tally: TSL5.Tally, sequence?: boolean): void;
    sendTallyTCP(ip: string, port: number, tally: TSL5.Tally, sequence?: boolean): void;
    on(event: 'message', listener: (msg: TSL5.Received) => void): this;
  }
  export = TSL5;
}
