// transformers.js imports onnxruntime-node only from its Node entry, which CADLift never uses.
throw new Error('onnxruntime-node is not installed in CADLift: run transformers.js in the browser (onnxruntime-web).');
