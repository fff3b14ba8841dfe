#!/usr/bin/env node
// The command was this file until it became CommonJS (bin/coap-group.cjs, which Node starts
// without its ES module loader). npm keeps the links it made to this path, such as the npx cache
// of a checkout, so it stays, and runs the command.
import './coap-group.cjs';
