module.exports = require('./lib/segmind.js').nodeSet('segmind-model');
